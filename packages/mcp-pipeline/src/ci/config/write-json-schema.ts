import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PACKAGE_ROOT } from "../../package-root.js";
import { configJsonSchema, JSON_SCHEMA_FILE } from "./json-schema.js";

// Run by the package's build: writes the configuration's JSON Schema beside the code it describes.
const file = join(PACKAGE_ROOT, JSON_SCHEMA_FILE);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
