// Run the Khronos glTF validator on glTF files and print one JSON report per file.
//
//   node gltf_validate.mjs FILE.glb [FILE.gltf …]
//
// Used by `showfloor check` (showfloor/content/gltf.py). The validator is the
// npm package `gltf-validator`, installed in ./validator/ next to this file
// (`npm ci` there; `make setup` does it).
//
// Output: one line of JSON per file, in order —
//   {"file": F, "validatorVersion": …, "mimeType": …, "issues": {numErrors, numWarnings,
//    numInfos, numHints, messages: [{code, message, severity, pointer?}], truncated}}
// or {"file": F, "error": "…"} when a file cannot be read or is not glTF at all.
// Exit status 0; 3 (and {"missing": true}) when the validator is not installed;
// 2 without files.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const files = process.argv.slice(2);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

if (files.length === 0) {
  say({ error: "usage: node gltf_validate.mjs FILE [FILE …]" });
  process.exit(2);
}

let validator;
try {
  const require = createRequire(new URL("./validator/package.json", import.meta.url));
  validator = require("gltf-validator");
} catch (err) {
  say({ missing: true, error: String(err && err.message) });
  process.exit(3);
}

async function validate(file) {
  const full = path.resolve(file);
  const folder = path.dirname(full);
  let bytes;
  try {
    bytes = new Uint8Array(await readFile(full));
  } catch (err) {
    return { file, error: `cannot read it: ${err.code || err}` };
  }
  // Resources a .gltf names (buffers, images) are read next to it, and only there.
  const externalResourceFunction = async (uri) => {
    const target = path.resolve(folder, decodeURIComponent(uri));
    if (!target.startsWith(folder + path.sep)) {
      throw new Error(`'${uri}' points outside the model's folder`);
    }
    return new Uint8Array(await readFile(target));
  };
  try {
    const report = await validator.validateBytes(bytes, {
      uri: path.basename(full),
      maxIssues: 200,
      externalResourceFunction,
    });
    return {
      file,
      validatorVersion: report.validatorVersion,
      mimeType: report.mimeType,
      issues: report.issues,
    };
  } catch (err) {
    return { file, error: String(err) };
  }
}

for (const file of files) {
  say(await validate(file));
}
