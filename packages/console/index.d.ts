/** The folder of the built console (index.html and hashed assets); absent until `npm run build`. */
export declare const consoleAssetsDir: URL;
