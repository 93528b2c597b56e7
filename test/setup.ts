// Shared mocha setup: point the test helper at the installed Node-RED explicitly (discovery can fail
// with unusual installs, see node-red-node-test-helper issues #25/#32).
import helper from 'node-red-node-test-helper';
import 'should';

helper.init(require.resolve('node-red'));
