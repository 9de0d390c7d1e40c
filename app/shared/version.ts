// Kept in code rather than read from package.json so bundled builds need no files beside them.
/** The app's version, reported to MCP clients. */
export const VERSION = "0.1.0";
