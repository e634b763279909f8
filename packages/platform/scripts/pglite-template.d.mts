export function pgliteVersion(): string;
export function templateDir(): string;
export function templateExists(dir?: string): boolean;
export function ensureTemplate(dir?: string): Promise<string>;
