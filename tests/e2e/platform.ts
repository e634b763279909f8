// The kernel pieces the e2e harness uses, in one place.
export {
  consumerQueues,
  createService,
  type Database,
  fallbackTopology,
  listDlq,
  mergeTopologies,
  platformTopology,
  type Service,
  type Transport,
} from '@ecom/platform';
export { deleteAmqpTopology as deleteAmqpTopologyForTests } from '@ecom/platform/testing';
