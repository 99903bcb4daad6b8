import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { AuditInterceptor } from './audited.interceptor';

/** Global: any module may inject AuditService and record its own actions (`audit.record({...})`). */
@Global()
@Module({
  controllers: [AuditController],
  // AuditInterceptor is applied by @Audited on each audited route.
  providers: [AuditService, AuditInterceptor],
  exports: [AuditService, AuditInterceptor],
})
export class AuditModule {}
