/** Stylesheets are bundled by esbuild (web/build.mjs) into one CSS file. */
declare module '*.css';
