// Runs editors/vscode/extension.js as VS Code runs it, against a real `gridcore lsp`.
//
//   node tests/vscode_host.js EXTENSION.js SETTINGS.json RULES_FILE
//
// What VS Code itself provides is played here: the `vscode` module (the user's
// settings, the editor's language, an output channel).  The language client is
// the real `vscode-languageclient/node` when Node can find it (NODE_PATH, or an
// `npm install` in editors/vscode), else a small client written below that
// launches and talks to the server the way the real one does (for a command
// with `transport: TransportKind.stdio` it appends `--stdio` to the arguments:
// vscode-languageclient 9, lib/node/main.js).  GRIDCORE_VSCODE_CLIENT=stand-in
// forces the small one.
//
// Prints one JSON object per line: {"client": ...}, {"spawned": {command, args}},
// {"diagnostics": [...]}, {"stopped": {code}}; exits 1 on any failure.
"use strict";

const cp = require("child_process");
const fs = require("fs");
const path = require("path");
const Module = require("module");

const [extensionPath, settingsPath, rulesPath] = process.argv.slice(2);
const settings = JSON.parse(fs.readFileSync(settingsPath, "utf8"));
const say = (doc) => process.stdout.write(JSON.stringify(doc) + "\n");

// ------------------------------------------------------------------ the editor's part

function anything(name) {
  // What the real client asks of VS Code beyond what this host plays (registering
  // providers, listening for events): callable, and every property another such.
  const fn = function () { return anything(`${name}()`); };
  return new Proxy(fn, {
    get(target, prop) {
      if (prop === "then") return undefined;
      if (prop === "dispose") return () => {};
      if (prop === Symbol.toPrimitive) return () => "";
      if (prop === Symbol.iterator) return function* () {};
      return anything(`${name}.${String(prop)}`);
    },
    apply() { return anything(`${name}()`); },
    construct() { return anything(`new ${name}`); },
  });
}

function withRest(object, name) {
  return new Proxy(object, { get: (t, p) => (p in t ? t[p] : anything(`${name}.${String(p)}`)) });
}

const log = [];
const channel = {
  name: "gridcore rules", append: (t) => log.push(String(t)), appendLine: (t) => log.push(String(t)),
  show() {}, hide() {}, clear() {}, replace() {}, dispose() {},
};
const vscode = withRest({
  version: "1.90.0",
  env: { language: settings.editorLanguage, appName: "Visual Studio Code", machineId: "host", sessionId: "host",
         uiKind: 1 },
  workspace: withRest({
    getConfiguration: (section) => ({ get: (key) => (section === "gridcore" ? settings[key] : undefined) }),
    textDocuments: [], workspaceFolders: undefined,
  }, "workspace"),
  window: withRest({
    createOutputChannel: () => channel,
    showErrorMessage: (m) => { log.push(`error: ${m}`); return Promise.resolve(undefined); },
    showWarningMessage: () => Promise.resolve(undefined),
    showInformationMessage: () => Promise.resolve(undefined),
  }, "window"),
}, "vscode");

// ------------------------------------------------------------------ a small client

const TransportKind = { stdio: 0, ipc: 1, pipe: 2, socket: 3 };

class StandInClient {
  constructor(id, name, serverOptions, clientOptions) {
    this.id = id;
    this.serverOptions = serverOptions;
    this.clientOptions = clientOptions;
    this.handlers = {};
    this.pending = new Map();
    this.next = 0;
    this.buffer = Buffer.alloc(0);
  }

  async start() {
    const run = this.serverOptions.run;
    const args = (run.args || []).slice();
    if (run.transport === TransportKind.stdio) args.push("--stdio");
    this.process = cp.spawn(run.command, args, run.options || {});
    this.process.stderr.on("data", (d) => channel.append(d.toString()));
    this.process.stdout.on("data", (d) => this.receive(d));
    this.process.on("exit", (code) => {  // a server that dies answers nothing more
      for (const { reject } of this.pending.values()) reject(new Error(`the server exited (${code})`));
      this.pending.clear();
    });
    this.initializeResult = await this.sendRequest("initialize", {
      processId: process.pid, clientInfo: { name: vscode.env.appName }, locale: vscode.env.language,
      rootUri: null, capabilities: {}, initializationOptions: this.clientOptions.initializationOptions,
    });
    await this.sendNotification("initialized", {});
  }

  receive(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.slice(0, end).toString())[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.slice(end + 4, end + 4 + length).toString("utf8"));
      this.buffer = this.buffer.slice(end + 4 + length);
      if (message.id !== undefined && this.pending.has(message.id)) {
        const { resolve, reject } = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) reject(new Error(message.error.message)); else resolve(message.result);
      } else if (message.method && this.handlers[message.method]) {
        this.handlers[message.method](message.params);
      }
    }
  }

  write(message) {
    const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8");
    this.process.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.process.stdin.write(body);
  }

  sendRequest(method, params) {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ id, method, params });
    });
  }

  sendNotification(method, params) { this.write({ method, params }); return Promise.resolve(); }

  onNotification(method, handler) { this.handlers[method] = handler; return { dispose() {} }; }

  async stop() {
    if (!this.process) return;
    await this.sendRequest("shutdown", null);
    await this.sendNotification("exit", null);
  }

  dispose() { return this.stop(); }
}

// ------------------------------------------------------------------ wiring

const load = Module._load;
Module._load = function (request, parent, isMain) {
  return request === "vscode" ? vscode : load.apply(this, [request, parent, isMain]);
};

function findClient() {
  // beside the extension (npm install there), then NODE_PATH
  try {
    return require(require.resolve("vscode-languageclient/node", { paths: [path.dirname(extensionPath)] }));
  } catch (error) {
    try { return require("vscode-languageclient/node"); } catch (again) { return null; }
  }
}

const realClient = process.env.GRIDCORE_VSCODE_CLIENT === "stand-in" ? null : findClient();
Module._load = function (request, parent, isMain) {
  if (request === "vscode") return vscode;
  if (request === "vscode-languageclient/node" && !realClient) return { LanguageClient: StandInClient, TransportKind };
  return load.apply(this, [request, parent, isMain]);
};
say({ client: realClient ? "vscode-languageclient" : "stand-in" });

const spawned = [];
const spawn = cp.spawn;
cp.spawn = function (command, args, options) {
  const child = spawn.apply(this, [command, args, options]);
  spawned.push(child);
  say({ spawned: { command, args } });
  return child;
};

async function main() {
  const extension = require(extensionPath);
  const context = { subscriptions: [] };
  await extension.activate(context);
  const client = context.subscriptions[0];
  const published = new Promise((resolve) => client.onNotification("textDocument/publishDiagnostics", resolve));
  await client.sendNotification("textDocument/didOpen", {
    textDocument: { uri: `file://${rulesPath}`, languageId: "gridcore-rules", version: 1,
                    text: fs.readFileSync(rulesPath, "utf8") },
  });
  const { diagnostics } = await published;
  say({ diagnostics });
  const server = spawned[spawned.length - 1];
  const exited = new Promise((resolve) => {
    if (server.exitCode !== null) resolve(server.exitCode); else server.on("exit", (code) => resolve(code));
  });
  await extension.deactivate();
  say({ stopped: { code: await exited } });
}

const timer = setTimeout(() => { say({ failed: "timed out", log }); process.exit(1); }, 90000);
main().then(() => { clearTimeout(timer); process.exit(0); },
            (error) => { say({ failed: String(error && error.stack || error), log }); process.exit(1); });
