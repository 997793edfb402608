export declare const ASSETS_PREFIX: '/assets/';
export declare function buildWeb(options: { esbuild: typeof import('esbuild'); root: string }): Promise<Record<string, string>>;
