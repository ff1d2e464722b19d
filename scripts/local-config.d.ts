/** Types of scripts/local-config.js (plain JS: `npm start` runs it with node alone). */
export declare const LOCAL_QUEUE_BATCH: number;
export declare function writeLocalConfig(root: string, name?: string, batch?: number): string;
