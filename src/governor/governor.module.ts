import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module.js';
import { GovernorController } from './governor.controller.js';

@Module({
  imports: [StateModule],
  controllers: [GovernorController],
})
export class GovernorModule {}
