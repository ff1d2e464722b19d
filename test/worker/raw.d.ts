// A repository file's text, imported with Vite's `?raw` suffix (the README, scripts/start.js,
// .dev.vars.example in console-first-contact.test.ts). A script file, not a module: a wildcard
// module declaration must be ambient.
declare module '*?raw' {
  const text: string;
  export default text;
}
