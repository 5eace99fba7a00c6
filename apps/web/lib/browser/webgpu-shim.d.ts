// @fastts/webgpu is typed through ./fasttsApi.ts; its own declarations may be absent while it is being built.
declare module '@fastts/webgpu';
