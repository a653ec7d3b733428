/**
 * `node:http` and `node:https` as the CommonJS module objects. An ES module import of either
 * builds its ESM facade, which reads every export, and one of them loads Node's bundled undici:
 * about 30 ms of every command's start, for `WebSocket` and the like that nothing here uses.
 * (Types still come from `import type`, which is erased.)
 */
export const http = process.getBuiltinModule('node:http');
export const https = process.getBuiltinModule('node:https');
