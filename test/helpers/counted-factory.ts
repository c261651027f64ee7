/** A factory that returns `value` and counts its calls (`reads`): did the code build a client, and when? */
export function countedFactory<T>(value: T): (() => T) & { reads: number } {
  const factory = Object.assign(
    () => {
      factory.reads += 1;
      return value;
    },
    { reads: 0 },
  );
  return factory;
}
