export { syncStream } from './sync-stream.js';
