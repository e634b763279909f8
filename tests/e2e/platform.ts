// The kernel pieces the e2e harness uses, in one place.
export { createService, type Database, listDlq, type Service, type Transport } from '@ecom/platform';
