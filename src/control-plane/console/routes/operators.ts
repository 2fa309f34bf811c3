/** Admin (`cp:admin`): the organization's operators. Another organization's operator is 404. */
import type { FastifyInstance } from 'fastify';
import { addRoute, type ApiDeps } from '../../api/context.js';
import { isUuid, parseBody } from '../../api/validate.js';
import { ApiError } from '../../errors.js';
import type { OperatorRow } from '../../store/types.js';
import { newOperatorSchema, operatorRow } from '../operators.js';

const listed = (operator: OperatorRow) => ({
  id: operator.id,
  email: operator.email,
  name: operator.name,
  role: operator.role,
  created_at: operator.created_at,
});

export function registerOperatorRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  addRoute(app, deps, {
    method: 'GET',
    url: '/console/operators',
    scope: 'cp:admin',
    handler: async (_request, principal) => ({ status: 200, body: (await store.operators.list(principal.org)).map(listed) }),
  });

  addRoute(app, deps, {
    method: 'POST',
    url: '/console/operators',
    scope: 'cp:admin',
    handler: async (request, principal) => {
      const input = parseBody(newOperatorSchema, request.body);
      const row = await operatorRow(principal.org, input, clock.now().toISOString());
      if (!(await store.operators.create(row))) throw new ApiError('operator_exists');
      request.log.info({ operator: row.id, role: row.role, by: principal.sub }, 'operator added');
      return { status: 201, body: listed(row) };
    },
  });

  addRoute(app, deps, {
    method: 'DELETE',
    url: '/console/operators/:id',
    scope: 'cp:admin',
    handler: async (request, principal) => {
      const { id } = request.params as { id: string };
      const operator = isUuid(id) ? await store.operators.get(id.toLowerCase()) : undefined;
      if (operator === undefined || operator.org_id !== principal.org) throw new ApiError('operator_not_found');
      if (operator.id === principal.operator?.id) throw new ApiError('operator_self');
      await store.operators.remove(operator.id);
      request.log.info({ operator: operator.id, by: principal.sub }, 'operator removed');
      return { status: 204 };
    },
  });
}
