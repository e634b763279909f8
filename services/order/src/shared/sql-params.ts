/**
 * The parameters of ONE statement composed from several repositories' fragments (a
 * data-modifying CTE, see `insertOrderClaimingKey`): each fragment adds its values and writes the
 * placeholders it gets back, so no fragment needs to know how many parameters came before it.
 */
export interface SqlParams {
  /**
   * Appends a value; returns its placeholder with an explicit cast (`$3::timestamptz`), so its
   * type never depends on where the fragment puts it (a SELECT list infers nothing).
   */
  add(value: unknown, type: string): string;
  readonly values: readonly unknown[];
}

export function sqlParams(): SqlParams {
  const values: unknown[] = [];
  return {
    values,
    add(value, type) {
      values.push(value);
      return `$${values.length}::${type}`;
    },
  };
}
