import { PipelineError, PipelineErrorCode } from "../errors.js";

/** The codes the MCP gates raise on purpose: a part of the pipeline's codes. */
export const McpGateErrorCode = {
  CONFIG_INVALID: PipelineErrorCode.CONFIG_INVALID,
  CONTRACT_FILE_INVALID: PipelineErrorCode.CONTRACT_FILE_INVALID,
  CONTRACT_FILE_UNREADABLE: PipelineErrorCode.CONTRACT_FILE_UNREADABLE,
  VERSION_INVALID: PipelineErrorCode.VERSION_INVALID,
  EXPECTED_FAILURES_INVALID: PipelineErrorCode.EXPECTED_FAILURES_INVALID,
  SUITE_FAILED_TO_RUN: PipelineErrorCode.SUITE_FAILED_TO_RUN,
  SERVER_UNREACHABLE: PipelineErrorCode.SERVER_UNREACHABLE,
  REVISION_NOT_SPOKEN: PipelineErrorCode.REVISION_NOT_SPOKEN,
} as const;
export type McpGateErrorCode = (typeof McpGateErrorCode)[keyof typeof McpGateErrorCode];

/** An MCP gate cannot do its work: a bad snapshot or baseline file, a suite or server that fails. */
export class McpGateError extends PipelineError {
  constructor(code: McpGateErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
