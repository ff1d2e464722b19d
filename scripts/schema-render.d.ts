export declare const SCHEMA_QUERY: string;
export declare function renderSchema(rows: { sql: string }[]): string;
