import { createService, stopOnSignals } from '@ecom/platform';
import { paymentService } from './app.js';

const service = await createService(paymentService);
await service.listen();
stopOnSignals([service], service.deps.logger);
