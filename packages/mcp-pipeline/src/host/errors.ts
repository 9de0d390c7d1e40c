/** Error codes of the toolchain, mapped to exit codes only by the entry point. */
export const ToolchainErrorCode = {
  Unsupported: "TOOLCHAIN_UNSUPPORTED",
  CommandFailed: "TOOLCHAIN_COMMAND_FAILED",
  VersionMismatch: "TOOLCHAIN_VERSION_MISMATCH",
  NotReady: "TOOLCHAIN_NOT_READY",
  ChecksumMismatch: "TOOLCHAIN_CHECKSUM_MISMATCH",
  /** An environment variable has a value the toolchain cannot use. */
  BadSetting: "TOOLCHAIN_BAD_SETTING",
  /** A download does not match the checksum its project published, or none was published. */
  Integrity: "TOOLCHAIN_INTEGRITY",
  /** A port the toolchain must use is held by a process that is not ours. */
  PortTaken: "TOOLCHAIN_PORT_TAKEN",
} as const;
export type ToolchainErrorCode = (typeof ToolchainErrorCode)[keyof typeof ToolchainErrorCode];

/** A toolchain failure with a message that says what to do about it. */
export class ToolchainError extends Error {
  readonly code: ToolchainErrorCode;
  readonly hint: string | undefined;

  constructor(
    code: ToolchainErrorCode,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ToolchainError";
    this.code = code;
    this.hint = options.hint;
  }
}
