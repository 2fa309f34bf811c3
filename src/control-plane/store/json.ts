/** JSON columns: lists and records the store only ever reads and writes whole. */
export const toJson = (value: unknown): string => JSON.stringify(value);
export const fromJson = <T>(text: string | null): T => (text === null ? null : JSON.parse(text)) as T;
