import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { WorkflowSnapshot } from '@troupe/contracts';
import { compileWorkflow, type WorkflowGraph } from '@troupe/workflow';

/**
 * Compiled graphs of the workflow snapshots jobs carry, by id, version and content (a version
 * edited in place is a different snapshot): compiling parses every expression, jobs are many.
 */
@Injectable()
export class GraphCache {
  private readonly graphs = new Map<string, WorkflowGraph>();

  /** Throws a WorkflowGraphError for a snapshot that is not a valid graph. */
  get(workflow: WorkflowSnapshot): WorkflowGraph {
    const fingerprint = createHash('sha1')
      .update(JSON.stringify([workflow.generation, workflow.steps, workflow.output]))
      .digest('base64url');
    const key = `${workflow.id}@${workflow.version}#${fingerprint}`;
    let graph = this.graphs.get(key);
    if (!graph) {
      graph = compileWorkflow(workflow);
      if (this.graphs.size >= 1000) this.graphs.delete(this.graphs.keys().next().value!); // oldest first
      this.graphs.set(key, graph);
    }
    return graph;
  }
}
