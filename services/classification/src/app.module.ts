import { Module } from '@nestjs/common';
import { TroupeRuntimeModule } from '@troupe/runtime';
import { classificationDefinition } from './classification.config';
import { ClassifierModule } from './classifier/classifier.module';

@Module({ imports: [TroupeRuntimeModule.forService(classificationDefinition), ClassifierModule] })
export class AppModule {}
