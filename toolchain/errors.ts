/** Error codes of the toolchain, mapped to exit codes only by the entry point. */
export const ToolchainErrorCode = {
  Unsupported: "TOOLCHAIN_UNSUPPORTED",
  CommandFailed: "TOOLCHAIN_COMMAND_FAILED",
  VersionMismatch: "TOOLCHAIN_VERSION_MISMATCH",
  NotReady: "TOOLCHAIN_NOT_READY",
  ChecksumMismatch: "TOOLCHAIN_CHECKSUM_MISMATCH",
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
