// `secretcache/http`: sources that read through a local HTTP cache instead of the AWS SDK: the Secrets Manager
// Agent and the AWS Parameters and Secrets Lambda Extension. No AWS SDK is loaded by this entry point.
export { type AgentSourceOptions, agentSource } from './http/agent.js';
export { type LambdaExtensionSourceOptions, lambdaExtensionSource } from './http/extension.js';
