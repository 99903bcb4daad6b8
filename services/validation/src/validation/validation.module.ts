import { Module } from '@nestjs/common';
import { JobGeneratedHandler } from './job-generated.handler';
import { OutputValidator } from './output-validator';
import { ValidationsRepository } from './validations.repository';

@Module({
  controllers: [JobGeneratedHandler],
  providers: [{ provide: OutputValidator, useValue: new OutputValidator() }, ValidationsRepository],
})
export class ValidationModule {}
