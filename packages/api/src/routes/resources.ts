import { failsWith, ListQuery, NoContent, ok } from '../schemas/common.js';
import {
  AppBody, AppIdParams, AppList, AppResponse, FnBody, FnIdParams, FnList, FnResponse, TriggerBody, TriggerIdParams,
  TriggerList, TriggerResponse,
} from '../schemas/resources.js';

/*
 * Route schemas of Fn API v2's resources (CONTRACT §4.1): what fastify validates and serializes with, and what
 * /v2/openapi.json is generated from. Each operation lists the errors it may answer with, from API_ERRORS.
 */

export const appSchemas = {
  list: {
    operationId: 'listApps', summary: 'List apps, by name', tags: ['apps'], querystring: ListQuery,
    response: { 200: ok(AppList, 'one page of apps, by name'), ...failsWith('validation') },
  },
  create: {
    operationId: 'createApp', summary: 'Create an app', tags: ['apps'], body: AppBody,
    response: { 200: ok(AppResponse, 'the app created'), ...failsWith('validation', 'invalidJson', 'conflict', 'payloadTooLarge') },
  },
  get: {
    operationId: 'getApp', summary: 'Get an app', tags: ['apps'], params: AppIdParams,
    response: { 200: ok(AppResponse, 'the app'), ...failsWith('appNotFound') },
  },
  update: {
    operationId: 'updateApp', summary: 'Update an app (config and annotations merge)', tags: ['apps'], params: AppIdParams,
    body: AppBody,
    response: { 200: ok(AppResponse, 'the app as updated'), ...failsWith('validation', 'invalidJson', 'idMismatch', 'appNotFound', 'conflict', 'payloadTooLarge') },
  },
  delete: {
    operationId: 'deleteApp', summary: 'Delete an app with its functions and triggers', tags: ['apps'], params: AppIdParams,
    response: { 204: NoContent, ...failsWith('appNotFound') },
  },
};

export const fnSchemas = {
  list: {
    operationId: 'listFns', summary: 'List an app\'s functions', tags: ['fns'], querystring: ListQuery,
    response: { 200: ok(FnList, 'one page of the app\'s functions, by name'), ...failsWith('validation', 'appNotFound') },
  },
  create: {
    operationId: 'createFn', summary: 'Create a function', tags: ['fns'], body: FnBody,
    response: { 200: ok(FnResponse, 'the function created'), ...failsWith('validation', 'invalidJson', 'appNotFound', 'conflict', 'payloadTooLarge') },
  },
  get: {
    operationId: 'getFn', summary: 'Get a function', tags: ['fns'], params: FnIdParams,
    response: { 200: ok(FnResponse, 'the function'), ...failsWith('fnNotFound') },
  },
  update: {
    operationId: 'updateFn', summary: 'Update a function (config and annotations merge)', tags: ['fns'], params: FnIdParams,
    body: FnBody,
    response: { 200: ok(FnResponse, 'the function as updated'), ...failsWith('validation', 'invalidJson', 'idMismatch', 'fnNotFound', 'payloadTooLarge') },
  },
  delete: {
    operationId: 'deleteFn', summary: 'Delete a function with its triggers', tags: ['fns'], params: FnIdParams,
    response: { 204: NoContent, ...failsWith('fnNotFound') },
  },
};

export const triggerSchemas = {
  list: {
    operationId: 'listTriggers', summary: 'List an app\'s triggers, optionally one function\'s', tags: ['triggers'],
    querystring: ListQuery,
    response: { 200: ok(TriggerList, 'one page of triggers, by name'), ...failsWith('validation', 'appNotFound') },
  },
  create: {
    operationId: 'createTrigger', summary: 'Create an HTTP or stream trigger', tags: ['triggers'], body: TriggerBody,
    response: {
      200: ok(TriggerResponse, 'the trigger created'),
      ...failsWith('validation', 'invalidJson', 'appNotFound', 'fnNotFound', 'conflict', 'kafkaUnavailable', 'kafkaClientMissing',
        'payloadTooLarge'),
    },
  },
  get: {
    operationId: 'getTrigger', summary: 'Get a trigger', tags: ['triggers'], params: TriggerIdParams,
    response: { 200: ok(TriggerResponse, 'the trigger'), ...failsWith('triggerNotFound') },
  },
  update: {
    operationId: 'updateTrigger', summary: 'Update a trigger', tags: ['triggers'], params: TriggerIdParams, body: TriggerBody,
    response: {
      200: ok(TriggerResponse, 'the trigger as updated'),
      ...failsWith('validation', 'invalidJson', 'idMismatch', 'triggerNotFound', 'fnNotFound', 'conflict', 'kafkaUnavailable', 'kafkaClientMissing',
        'payloadTooLarge'),
    },
  },
  delete: {
    operationId: 'deleteTrigger', summary: 'Delete a trigger', tags: ['triggers'], params: TriggerIdParams,
    response: { 204: NoContent, ...failsWith('triggerNotFound') },
  },
};
