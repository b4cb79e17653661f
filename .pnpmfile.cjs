// @push.rocks/smartmongo is used only for its CongoDB wire-protocol server in tests.
// Its other dependencies either do not resolve from our registry or download a MongoDB binary at install time.
const DROPPED = ['@push.rocks/mongodump', '@push.rocks/smartdata', 'mongodb-memory-server'];

function readPackage(pkg) {
  if (pkg.name === '@push.rocks/smartmongo') {
    for (const dep of DROPPED) delete pkg.dependencies[dep];
  }
  return pkg;
}

module.exports = { hooks: { readPackage } };
