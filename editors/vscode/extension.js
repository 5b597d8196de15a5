// Starts `gridcore lsp` for .rules files; everything else (checks, completion,
// hover, go to definition, formatting, outline) comes from the server.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("gridcore");
  const command = settings.get("command") || "gridcore";
  const lang = settings.get("language") || (vscode.env.language.startsWith("zh") ? "zh" : "en");
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "gridcore-rules",
    "gridcore rules",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "gridcore-rules" }],
      initializationOptions: { lang },
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
