import { createService, stopOnSignals } from '@ecom/platform';
import { inventoryService } from './app.js';

const service = await createService(inventoryService);
await service.listen();
stopOnSignals([service], service.deps.logger);
