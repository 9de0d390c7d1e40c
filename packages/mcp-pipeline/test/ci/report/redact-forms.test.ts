import { describe, expect, it } from "vitest";
import { REDACTED as MASK, redact as scrubSecrets } from "../../../src/ci/report/redact.js";

describe("scrubSecrets", () => {
  it("masks every occurrence of each secret", () => {
    expect(scrubSecrets("pw=hunter22 and again hunter22", ["hunter22"])).toBe(
      `pw=${MASK} and again ${MASK}`,
    );
  });

  it("masks the base64 form of a secret, as Basic auth and Docker configs carry it", () => {
    const encoded = Buffer.from("pipeline:s3cret-value").toString("base64");
    expect(scrubSecrets(`auth ${encoded}`, ["pipeline:s3cret-value"])).toBe(`auth ${MASK}`);
  });

  it("masks the longer secret whole when one secret contains another", () => {
    expect(scrubSecrets("token abcdef123456", ["abc", "abcdef123456"])).toBe(`token ${MASK}`);
  });

  it("masks a secret given with surrounding whitespace by its trimmed value too", () => {
    expect(scrubSecrets("key: PEMBODY", ["\nPEMBODY\n"])).toBe(`key: ${MASK}`);
  });

  it("masks each line of a multi-line secret such as a PEM key, but not its armour", () => {
    const pem =
      "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nZmlyc3QtbGluZS1vZi1rZXk=\nc2Vjb25kLWxpbmU=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
    expect(
      scrubSecrets("bad block c2Vjb25kLWxpbmU= in -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", [
        pem,
      ]),
    ).toBe(`bad block ${MASK} in -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----`);
  });

  it("ignores empty secrets and leaves other text alone", () => {
    expect(scrubSecrets("nothing secret here", ["", "absent"])).toBe("nothing secret here");
  });
});
