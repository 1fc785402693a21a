// Renders every math block given on stdin (JSON: [{"tex": "...", "display": true}, ...]) with KaTeX,
// throwOnError: true, and prints a JSON list of {"index", "error"} for the blocks KaTeX rejects.
const katex = require("katex");
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const blocks = JSON.parse(input);
  const errors = [];
  blocks.forEach((block, index) => {
    try {
      katex.renderToString(block.tex, { displayMode: block.display, throwOnError: true });
    } catch (e) {
      errors.push({ index, error: String(e.message || e) });
    }
  });
  process.stdout.write(JSON.stringify({ version: katex.version, count: blocks.length, errors }));
});
