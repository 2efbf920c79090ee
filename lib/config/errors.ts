/** A context value the app cannot use. The message is one line: key, value, what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`Invalid context -c ${key}=${value}: ${allowed}`);
    this.name = 'ConfigError';
  }
}
