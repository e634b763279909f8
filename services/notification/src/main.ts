import { createService, stopOnSignals } from '@ecom/platform';
import { notificationService } from './app.js';

const service = await createService(notificationService);
await service.listen();
stopOnSignals([service], service.deps.logger);
