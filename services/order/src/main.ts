import { createService, stopOnSignals } from '@ecom/platform';
import { orderService } from './app.js';

const service = await createService(orderService);
await service.listen();
stopOnSignals([service], service.deps.logger);
