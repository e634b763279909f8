/** The `never` default of an exhaustive switch: a new union member fails the typecheck here. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
