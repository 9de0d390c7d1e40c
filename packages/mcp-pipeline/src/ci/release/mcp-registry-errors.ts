// What listing a release in an MCP Registry can end with, besides success.

/** Bad input: nothing was sent to the registry. */
export class PublishInputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The registry (or the login to it) refused; `reason` is its own words. */
export class RegistryRefusedError extends Error {
  readonly reason: string;
  constructor(message: string, reason: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
  }
}
