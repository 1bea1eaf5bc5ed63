// Conformance driver for the AWS JavaScript SDKs: resolves credentials through the SDK once
// per step (after moving its clock, or sleeping) and prints, as JSON, the metadata calls each
// resolution made and how long the SDK will keep the credentials it holds. Usage: node driver.js js|js-v3 ENDPOINT WAIT_S...
// (the endpoint also comes in AWS_EC2_METADATA_SERVICE_ENDPOINT, which both SDKs read).
"use strict";
const http = require("http");

const [variant, endpoint, ...waits] = process.argv.slice(2);
const SETTLE_MS = 300; // a background refresh, if any, lands within this
let finished = false;

function delta(from, to) {
  return Object.fromEntries(Object.keys(to).map((k) => [k, to[k] - from[k]]));
}

function stats() {
  return new Promise((resolve, reject) => {
    http.get(endpoint + "/_emulator/stats", (res) => {
      let body = "";
      res.on("data", (chunk) => { body += chunk; });
      res.on("end", () => resolve(JSON.parse(body)));
    }).on("error", reject);
  });
}

function sdk() {
  if (variant === "js") {
    const AWS = require("aws-sdk");
    // With the default logger (null), the expiry extension EC2MetadataCredentials makes for
    // credentials inside the 15 s window (lib/credentials/ec2_metadata_credentials.js,
    // extendExpirationIfExpired, from 2.1090.0) calls null.warn: the TypeError is swallowed
    // and the get never returns. A logger lets the driver see what the SDK decides.
    AWS.config.logger = process.env.CONFORMANCE_JS_NO_LOGGER ? null : { log() {}, warn() {} };
    const credentials = new AWS.EC2MetadataCredentials();
    let offset = 0; // a wait moves the SDK's own clock (AWS.util.date.getDate), no sleep
    const realDate = AWS.util.date.getDate;
    AWS.util.date.getDate = () => new Date(realDate().getTime() + offset);
    return {
      version: AWS.VERSION,
      wait: async (s) => { offset += s * 1000; },
      get: async () => {
        await credentials.getPromise();
        return new Date(credentials.expireTime.getTime() - offset);
      },
    };
  }
  if (variant === "js-v3") {
    const { defaultProvider } = require("@aws-sdk/credential-provider-node");
    const provider = defaultProvider();
    return {
      version: require("@aws-sdk/credential-provider-node/package.json").version,
      wait: (s) => new Promise((resolve) => setTimeout(resolve, s * 1000)),
      get: async () => (await provider()).expiration,
    };
  }
  throw new Error(`unknown SDK ${variant}: expected js or js-v3`);
}

async function main() {
  const client = sdk();
  const gets = [];
  for (const wait of waits) {
    await client.wait(Number(wait));
    const before = await stats();
    const expires = await client.get();
    const during = await stats();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const after = await stats();
    gets.push({
      during: delta(before, during),
      after: delta(during, after),
      expires_in_s: expires ? (expires.getTime() - Date.now()) / 1000 : null,
    });
  }
  process.stdout.write(JSON.stringify({ version: client.version, gets }) + "\n");
  finished = true;
}

// a credential get whose promise never settles leaves nothing to run: say so, do not exit 0
process.on("beforeExit", () => {
  if (!finished) {
    console.error("a credential get never returned (the SDK dropped its callback)");
    process.exit(3);
  }
});

main().catch((error) => { console.error(error); process.exit(1); });
