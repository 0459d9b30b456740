// The benches' command line: `arg('--rounds', '5')` is the word after --rounds, or the default.
export const args = process.argv.slice(2);
export function arg(name, def) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}
