/** Every error the pipeline's pure modules raise on purpose carries one of these codes. */
export const PipelineErrorCode = {
  CONFIG_INVALID: "CONFIG_INVALID",
  GIT_CONTEXT_INVALID: "GIT_CONTEXT_INVALID",
  TRIVY_REPORT_INVALID: "TRIVY_REPORT_INVALID",
  REPORT_WRITE_FAILED: "REPORT_WRITE_FAILED",
  ENVIRONMENT_INVALID: "ENVIRONMENT_INVALID",
  BUILD_FAILED: "BUILD_FAILED",
  PUBLISH_FAILED: "PUBLISH_FAILED",
  INTERNAL: "INTERNAL",
  CONTRACT_FILE_INVALID: "CONTRACT_FILE_INVALID",
  CONTRACT_FILE_UNREADABLE: "CONTRACT_FILE_UNREADABLE",
  VERSION_INVALID: "VERSION_INVALID",
  EXPECTED_FAILURES_INVALID: "EXPECTED_FAILURES_INVALID",
  SUITE_FAILED_TO_RUN: "SUITE_FAILED_TO_RUN",
  SERVER_UNREACHABLE: "SERVER_UNREACHABLE",
  REVISION_NOT_SPOKEN: "REVISION_NOT_SPOKEN",
  IMAGE_REF_INVALID: "IMAGE_REF_INVALID",
  SIGNING_KEY_INVALID: "SIGNING_KEY_INVALID",
  COSIGN_FAILED: "COSIGN_FAILED",
  PROVENANCE_INVALID: "PROVENANCE_INVALID",
} as const;
export type PipelineErrorCode = (typeof PipelineErrorCode)[keyof typeof PipelineErrorCode];

/** Base of the pipeline's error hierarchy: a message a person can act on, plus a stable code. */
export class PipelineError extends Error {
  readonly code: PipelineErrorCode;

  constructor(code: PipelineErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The pipeline configuration (file, environment or flags) is not usable. */
export class ConfigError extends PipelineError {
  /** The first offending field, dotted (`sizeBudget.uncompressedMB`), when one is known. */
  readonly field: string | undefined;
  /** Where the offending value came from: a file path, `$VARIABLE` or `command-line options`. */
  readonly source: string | undefined;

  constructor(
    message: string,
    options: ErrorOptions & { field?: string | undefined; source?: string | undefined } = {},
  ) {
    super(PipelineErrorCode.CONFIG_INVALID, message, { cause: options.cause });
    this.field = options.field;
    this.source = options.source;
  }
}

/** The git ref, commit or extra tags cannot be turned into image tags. */
export class GitContextError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(PipelineErrorCode.GIT_CONTEXT_INVALID, message, options);
  }
}

/** A Trivy JSON report is not something this pipeline can read. */
export class TrivyReportError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(PipelineErrorCode.TRIVY_REPORT_INVALID, message, options);
  }
}

/** The report files could not be written. */
export class ReportWriteError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(PipelineErrorCode.REPORT_WRITE_FAILED, message, options);
  }
}

/** The environment cannot run the pipeline (a missing secret, no registry, a refused login). */
export class EnvironmentError extends PipelineError {
  constructor(
    message: string,
    options?: ErrorOptions,
    code: PipelineErrorCode = PipelineErrorCode.ENVIRONMENT_INVALID,
  ) {
    super(code, message, options);
  }
}

/** The registry refused the push: a wrong address, credentials or permissions. */
export class PublishError extends EnvironmentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options, PipelineErrorCode.PUBLISH_FAILED);
  }
}

/** Something failed that no gate or known error explains; the whole chain is in `logFile`. */
export class InternalError extends PipelineError {
  readonly logFile: string;

  constructor(message: string, logFile: string, options?: ErrorOptions) {
    super(PipelineErrorCode.INTERNAL, message, options);
    this.logFile = logFile;
  }
}

/** What is known about a failed image build. */
export interface BuildFailure {
  /** The failing step's command, when the engine named it. */
  command?: string | undefined;
  exitCode?: number | undefined;
  /** The last lines the failing step printed, when they could be read. */
  output: readonly string[];
  /** The engine's own words, for failures that are not a step exiting non-zero. */
  reason: string;
  /** The platform whose image failed, when several are built. */
  platform?: string | undefined;
}

/**
 * The image did not build: the failing Dockerfile step's command, its exit
 * code and the tail of its output when known, else the engine's reason.
 */
export class BuildError extends PipelineError {
  readonly failure: BuildFailure;

  constructor(failure: BuildFailure, options?: ErrorOptions) {
    const what =
      failure.command !== undefined
        ? `\`${failure.command}\` exited with ${failure.exitCode}`
        : failure.reason;
    const output = failure.output.length ? `\n${failure.output.join("\n")}` : "";
    const where = failure.platform ? ` for ${failure.platform}` : "";
    super(
      PipelineErrorCode.BUILD_FAILED,
      `the image did not build${where}: ${what}${output}`,
      options,
    );
    this.failure = failure;
  }
}

/** An image reference cosign is asked to sign or verify is not `repository@sha256:<digest>`. */
export class ImageRefError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(PipelineErrorCode.IMAGE_REF_INVALID, message, options);
  }
}

/**
 * The signing key cannot be used: the password does not decrypt it, or it is not a cosign key.
 * The message names the secrets (`COSIGN_PASSWORD`, `COSIGN_KEY`), never their values.
 */
export class SigningKeyError extends PipelineError {
  /** Names of the secrets involved, for the report: never their values. */
  readonly secrets: readonly string[];

  constructor(message: string, options: ErrorOptions & { secrets: readonly string[] }) {
    super(PipelineErrorCode.SIGNING_KEY_INVALID, message, { cause: options.cause });
    this.secrets = options.secrets;
  }
}

/**
 * cosign failed for a reason other than the key (registry unreachable or refusing, no OIDC
 * token, cosign missing). `stderr` is cosign's own output with every secret value masked.
 */
export class CosignError extends PipelineError {
  /** The cosign subcommand and its arguments (arguments never hold a secret). */
  readonly command: readonly string[];
  readonly exitCode: number | undefined;
  /** cosign's stderr with every secret value replaced by `***`. */
  readonly stderr: string;

  constructor(
    message: string,
    options: ErrorOptions & {
      command: readonly string[];
      exitCode: number | undefined;
      stderr: string;
    },
  ) {
    super(PipelineErrorCode.COSIGN_FAILED, message, { cause: options.cause });
    this.command = options.command;
    this.exitCode = options.exitCode;
    this.stderr = options.stderr;
  }
}

/** The SLSA provenance cannot be built from its input (a malformed field, a secret value in it). */
export class ProvenanceError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(PipelineErrorCode.PROVENANCE_INVALID, message, options);
  }
}
