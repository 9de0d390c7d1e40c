/** Every error the MCP gates raise on purpose carries one of these codes. */
export const McpGateErrorCode = {
  CONTRACT_FILE_INVALID: "CONTRACT_FILE_INVALID",
  CONTRACT_FILE_UNREADABLE: "CONTRACT_FILE_UNREADABLE",
  VERSION_INVALID: "VERSION_INVALID",
  EXPECTED_FAILURES_INVALID: "EXPECTED_FAILURES_INVALID",
  SUITE_FAILED_TO_RUN: "SUITE_FAILED_TO_RUN",
  SERVER_UNREACHABLE: "SERVER_UNREACHABLE",
} as const;
export type McpGateErrorCode = (typeof McpGateErrorCode)[keyof typeof McpGateErrorCode];

/**
 * Base of the MCP gates' errors: a message a person can act on, plus a stable code. Kept apart
 * from `ci/errors.ts` while the check table is being rebuilt; it can join `PipelineError` later.
 */
export class McpGateError extends Error {
  readonly code: McpGateErrorCode;

  constructor(code: McpGateErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
