import { createService, stopOnSignals } from '@ecom/platform';
import { authService } from './app.js';

const service = await createService(authService);
await service.listen();
stopOnSignals([service], service.deps.logger);
