export declare const PUBLIC_SIGNIN_WARNING: string;
export declare function demoWarnings(vars: Record<string, string | undefined>): string[];
