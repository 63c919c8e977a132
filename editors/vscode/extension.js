// Starts `deal lsp` for .deal and .test files: diagnostics as you type, hover,
// go to definition and formatting. The highlighting comes from the TextMate
// grammars in syntaxes/.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("deal").get("path") || "deal";
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "deal",
    "deal",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "deal" },
        { scheme: "file", language: "deal-test" },
      ],
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
