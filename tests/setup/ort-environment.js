// Jest runs each test file in its own realm, so typed arrays made there are not instances of the
// host's Float32Array/Float64Array, which onnxruntime-node checks when it wraps native outputs.
// Every test file runs in this environment (jest.config.js): it shares the host's typed-array
// constructors with the test realm.
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

class OrtEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
      'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
      'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = OrtEnvironment;
