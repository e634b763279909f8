import { createService, stopOnSignals } from '@ecom/platform';
import { catalogService } from './app.js';

const service = await createService(catalogService);
await service.listen();
stopOnSignals([service], service.deps.logger);
