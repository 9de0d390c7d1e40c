import { readFile, writeFile } from "node:fs/promises";
import {
  type ContractSnapshot,
  parseSnapshot,
  serializeSnapshot,
  UPDATE_CONTRACT_COMMAND,
} from "./contract-snapshot.js";
import { McpGateError, McpGateErrorCode } from "./errors.js";

/**
 * Reads the committed contract snapshot. Resolves undefined when the file does not exist (the
 * gate then fails with the command that writes it); throws McpGateError when it cannot be read
 * or is not a valid snapshot.
 */
export async function readContractFile(path: string): Promise<ContractSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new McpGateError(
      McpGateErrorCode.CONTRACT_FILE_UNREADABLE,
      `cannot read the tool-contract snapshot ${path}; check its permissions or regenerate it with ${UPDATE_CONTRACT_COMMAND}`,
      { cause: error },
    );
  }
  return parseSnapshot(text, path);
}

/** Writes `snapshot` to `path` exactly as `serializeSnapshot` renders it. */
export async function writeContractFile(path: string, snapshot: ContractSnapshot): Promise<void> {
  await writeFile(path, serializeSnapshot(snapshot), "utf8");
}
