"""Request and response schemas of the REST API, in Camunda 7's shapes."""

from __future__ import annotations

from datetime import datetime

from marshmallow import EXCLUDE, Schema, fields, validate

from engine.variables import format_date


class CamundaDate(fields.Field):
    """Camunda's date format: 2026-11-24T10:15:00.000+0200."""

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001, ANN202
        return format_date(value) if isinstance(value, datetime) else value


class QuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE


class PagingQuery(QuerySchema):
    firstResult = fields.Integer(load_default=0, validate=validate.Range(min=0))
    maxResults = fields.Integer(load_default=None, validate=validate.Range(min=0, max=10_000))


class VariableValue(Schema):
    value = fields.Raw(allow_none=True)
    type = fields.String(allow_none=True)
    valueInfo = fields.Dict(load_default=dict)


Variables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)


# Deployments -----------------------------------------------------------------------------------
class DeploymentForm(Schema):
    class Meta:
        unknown = EXCLUDE

    deployment_name = fields.String(data_key="deployment-name", load_default=None)
    deployment_source = fields.String(data_key="deployment-source", load_default=None)
    deploy_changed_only = fields.Boolean(data_key="deploy-changed-only", load_default=False)
    enable_duplicate_filtering = fields.Boolean(data_key="enable-duplicate-filtering", load_default=False)
    tenant_id = fields.String(data_key="tenant-id", load_default=None)


class DeploymentQuery(PagingQuery):
    id = fields.String(load_default=None)
    name = fields.String(load_default=None)


class Deployment(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    deploymentTime = CamundaDate(attribute="deployment_time")
    tenantId = fields.Constant(None)
    links = fields.Constant([])


class ProcessDefinition(Schema):
    id = fields.String()
    key = fields.String()
    category = fields.Constant("http://plusma.lv/bpmn")
    description = fields.Constant(None)
    name = fields.String(allow_none=True)
    version = fields.Integer()
    resource = fields.String(attribute="resource_name")
    deploymentId = fields.String(attribute="deployment_id")
    diagram = fields.Constant(None)
    suspended = fields.Boolean()
    tenantId = fields.Constant(None)
    versionTag = fields.String(attribute="version_tag", allow_none=True)
    historyTimeToLive = fields.Integer(attribute="history_time_to_live", allow_none=True)
    startableInTasklist = fields.Constant(True)


class DeploymentWithDefinitions(Deployment):
    deployedProcessDefinitions = fields.Dict(
        keys=fields.String(), values=fields.Nested(ProcessDefinition), allow_none=True
    )
    deployedCaseDefinitions = fields.Constant(None)
    deployedDecisionDefinitions = fields.Constant(None)
    deployedDecisionRequirementsDefinitions = fields.Constant(None)


class ProcessDefinitionQuery(PagingQuery):
    key = fields.String(load_default=None)
    name = fields.String(load_default=None)
    deploymentId = fields.String(load_default=None)
    processDefinitionId = fields.String(load_default=None)
    latestVersion = fields.Boolean(load_default=False)
    version = fields.Integer(load_default=None)


class ProcessDefinitionXml(Schema):
    id = fields.String()
    bpmn20Xml = fields.String()


class Resource(Schema):
    id = fields.String()
    name = fields.String()
    deploymentId = fields.String(attribute="deployment_id")


# Process instances ------------------------------------------------------------------------------
class StartInstance(Schema):
    class Meta:
        unknown = EXCLUDE

    variables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)
    businessKey = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    withVariablesInReturn = fields.Boolean(load_default=False)


class ProcessInstance(Schema):
    id = fields.String()
    definitionId = fields.String(attribute="definition_id")
    definitionKey = fields.String(attribute="definition_key")
    businessKey = fields.String(attribute="business_key", allow_none=True)
    caseInstanceId = fields.Constant(None)
    ended = fields.Function(lambda row: row["state"] != "ACTIVE")
    suspended = fields.Constant(False)
    tenantId = fields.Constant(None)
    links = fields.Constant([])


class ProcessInstanceWithVariables(ProcessInstance):
    variables = fields.Dict(keys=fields.String(), values=fields.Nested(VariableValue))


class ProcessInstanceQuery(PagingQuery):
    processDefinitionKey = fields.String(load_default=None)
    processDefinitionId = fields.String(load_default=None)
    businessKey = fields.String(load_default=None)
    processInstanceIds = fields.String(load_default=None)
    active = fields.Boolean(load_default=None)
    completed = fields.Boolean(load_default=None)


class DeleteInstanceQuery(QuerySchema):
    skipCustomListeners = fields.Boolean(load_default=False)
    skipIoMappings = fields.Boolean(load_default=False)
    deleteReason = fields.String(load_default=None, validate=validate.Length(max=4000))


class Count(Schema):
    count = fields.Integer()


# Tasks ------------------------------------------------------------------------------------------
class TaskListQuery(PagingQuery):
    processInstanceId = fields.String(load_default=None)
    processDefinitionKey = fields.String(load_default=None)
    processDefinitionId = fields.String(load_default=None)
    processInstanceBusinessKey = fields.String(load_default=None)
    assignee = fields.String(load_default=None)
    unassigned = fields.Boolean(load_default=False)
    assigned = fields.Boolean(load_default=False)
    candidateGroup = fields.String(load_default=None)
    candidateUser = fields.String(load_default=None)
    name = fields.String(load_default=None)
    nameLike = fields.String(load_default=None)
    taskDefinitionKey = fields.String(load_default=None)
    taskId = fields.String(load_default=None)
    sortBy = fields.String(load_default="created")
    sortOrder = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class Task(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    owner = fields.Constant(None)
    created = CamundaDate()
    lastUpdated = fields.Constant(None)
    due = CamundaDate(allow_none=True)
    followUp = CamundaDate(attribute="follow_up", allow_none=True)
    delegationState = fields.Constant(None)
    description = fields.String(allow_none=True)
    executionId = fields.Function(lambda row: row["instance_id"])
    parentTaskId = fields.Constant(None)
    priority = fields.Integer()
    processDefinitionId = fields.String(attribute="definition_id")
    processInstanceId = fields.String(attribute="instance_id")
    taskDefinitionKey = fields.String(attribute="task_definition_key")
    caseExecutionId = fields.Constant(None)
    caseInstanceId = fields.Constant(None)
    caseDefinitionId = fields.Constant(None)
    suspended = fields.Constant(False)
    formKey = fields.String(attribute="form_key", allow_none=True)
    camundaFormRef = fields.Function(
        lambda row: {"key": row["form_ref"], "binding": "latest", "version": None} if row.get("form_ref") else None
    )
    tenantId = fields.Constant(None)


class ClaimTask(Schema):
    class Meta:
        unknown = EXCLUDE

    userId = fields.String(required=True, validate=validate.Length(min=1, max=255))


class CompleteTask(Schema):
    class Meta:
        unknown = EXCLUDE

    variables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)
    withVariablesInReturn = fields.Boolean(load_default=False)


# History ----------------------------------------------------------------------------------------
class HistoricProcessInstanceQuery(PagingQuery):
    processInstanceId = fields.String(load_default=None)
    processDefinitionKey = fields.String(load_default=None)
    processDefinitionId = fields.String(load_default=None)
    processInstanceBusinessKey = fields.String(load_default=None)
    finished = fields.Boolean(load_default=None)
    unfinished = fields.Boolean(load_default=None)


class HistoricProcessInstance(Schema):
    id = fields.String()
    businessKey = fields.String(allow_none=True)
    processDefinitionId = fields.String()
    processDefinitionKey = fields.String()
    processDefinitionName = fields.String(allow_none=True)
    processDefinitionVersion = fields.Integer(allow_none=True)
    startTime = CamundaDate()
    endTime = CamundaDate(allow_none=True)
    removalTime = fields.Constant(None)
    durationInMillis = fields.Integer(allow_none=True)
    startUserId = fields.String(allow_none=True)
    startActivityId = fields.String(allow_none=True)
    deleteReason = fields.String(allow_none=True)
    rootProcessInstanceId = fields.String()
    superProcessInstanceId = fields.Constant(None)
    superCaseInstanceId = fields.Constant(None)
    caseInstanceId = fields.Constant(None)
    tenantId = fields.Constant(None)
    state = fields.String()


class HistoricActivityInstanceQuery(PagingQuery):
    processInstanceId = fields.String(load_default=None)
    activityId = fields.String(load_default=None)
    activityType = fields.String(load_default=None)
    finished = fields.Boolean(load_default=None)
    unfinished = fields.Boolean(load_default=None)


class HistoricActivityInstance(Schema):
    id = fields.String()
    parentActivityInstanceId = fields.String(allow_none=True)
    activityId = fields.String()
    activityName = fields.String(allow_none=True)
    activityType = fields.String(allow_none=True)
    processDefinitionKey = fields.String(allow_none=True)
    processDefinitionId = fields.String(allow_none=True)
    processInstanceId = fields.String(allow_none=True)
    executionId = fields.String(allow_none=True)
    taskId = fields.String(allow_none=True)
    calledProcessInstanceId = fields.Constant(None)
    calledCaseInstanceId = fields.Constant(None)
    assignee = fields.String(allow_none=True)
    startTime = CamundaDate()
    endTime = CamundaDate(allow_none=True)
    durationInMillis = fields.Integer(allow_none=True)
    canceled = fields.Boolean()
    completeScope = fields.Boolean()
    tenantId = fields.Constant(None)
    removalTime = fields.Constant(None)
    rootProcessInstanceId = fields.String(allow_none=True)


# Jobs and incidents ----------------------------------------------------------------------------
class JobQuery(PagingQuery):
    processInstanceId = fields.String(load_default=None)
    processDefinitionKey = fields.String(load_default=None)
    withException = fields.Boolean(load_default=None)
    noRetriesLeft = fields.Boolean(load_default=None)


class Job(Schema):
    id = fields.String()
    jobDefinitionId = fields.Function(lambda row: f"{row['definition_id']}#{row['activity_id']}")
    processInstanceId = fields.String(attribute="instance_id", allow_none=True)
    executionId = fields.String(attribute="task_id", allow_none=True)
    processDefinitionId = fields.String(attribute="definition_id")
    processDefinitionKey = fields.String(attribute="definition_key")
    dueDate = CamundaDate(attribute="due")
    exceptionMessage = fields.String(attribute="exception_message", allow_none=True)
    failedActivityId = fields.Function(lambda row: row["activity_id"] if row["exception_message"] else None)
    retries = fields.Integer()
    suspended = fields.Constant(False)
    priority = fields.Constant(0)
    tenantId = fields.Constant(None)
    createTime = CamundaDate(attribute="created")


class JobRetries(Schema):
    class Meta:
        unknown = EXCLUDE

    retries = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))


class IncidentQuery(PagingQuery):
    incidentType = fields.String(load_default=None)
    processInstanceId = fields.String(load_default=None)
    processDefinitionKey = fields.String(load_default=None)


class Incident(Schema):
    id = fields.String()
    processDefinitionId = fields.String(attribute="definition_id")
    processInstanceId = fields.String(attribute="instance_id", allow_none=True)
    executionId = fields.Constant(None)
    incidentTimestamp = CamundaDate(attribute="incident_timestamp")
    incidentType = fields.String(attribute="incident_type")
    activityId = fields.String(attribute="activity_id")
    failedActivityId = fields.String(attribute="activity_id", dump_only=True)
    causeIncidentId = fields.String(attribute="id", dump_only=True)
    rootCauseIncidentId = fields.String(attribute="id", dump_only=True)
    configuration = fields.String()
    incidentMessage = fields.String(attribute="incident_message", allow_none=True)
    tenantId = fields.Constant(None)
    jobDefinitionId = fields.Constant(None)
    annotation = fields.Constant(None)


class VariableModifications(Schema):
    class Meta:
        unknown = EXCLUDE

    modifications = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)
    deletions = fields.List(fields.String(), load_default=list, allow_none=True)


# Messages ---------------------------------------------------------------------------------------
class CorrelateMessage(Schema):
    class Meta:
        unknown = EXCLUDE

    messageName = fields.String(required=True, validate=validate.Length(min=1, max=255))
    businessKey = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))
    processInstanceId = fields.String(load_default=None, allow_none=True)
    tenantId = fields.String(load_default=None, allow_none=True)
    withoutTenantId = fields.Boolean(load_default=False)
    correlationKeys = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)
    processVariables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)
    all = fields.Boolean(load_default=False)
    resultEnabled = fields.Boolean(load_default=False)
    variablesInResultEnabled = fields.Boolean(load_default=False)


class MessageCorrelationResult(Schema):
    resultType = fields.String()
    execution = fields.Raw(allow_none=True)
    processInstance = fields.Nested(ProcessInstance)
    variables = fields.Dict(keys=fields.String(), values=fields.Nested(VariableValue), allow_none=True)


# External tasks ---------------------------------------------------------------------------------
class FetchTopic(Schema):
    class Meta:
        unknown = EXCLUDE

    topicName = fields.String(required=True, validate=validate.Length(min=1, max=255))
    lockDuration = fields.Integer(required=True, validate=validate.Range(min=1))
    variables = fields.List(fields.String(), load_default=None, allow_none=True)
    localVariables = fields.Boolean(load_default=False, allow_none=True)
    businessKey = fields.String(load_default=None, allow_none=True)
    processDefinitionId = fields.String(load_default=None, allow_none=True)
    processDefinitionIdIn = fields.List(fields.String(), load_default=list, allow_none=True)
    processDefinitionKey = fields.String(load_default=None, allow_none=True)
    processDefinitionKeyIn = fields.List(fields.String(), load_default=list, allow_none=True)
    # Filtering by variable values is not supported: only an empty object (what clients send) is accepted.
    processVariables = fields.Dict(load_default=dict, allow_none=True)
    deserializeValues = fields.Boolean(load_default=False, allow_none=True)
    includeExtensionProperties = fields.Boolean(load_default=False, allow_none=True)


class FetchSorting(Schema):
    class Meta:
        unknown = EXCLUDE

    sortBy = fields.String(required=True, validate=validate.OneOf(["createTime"]))
    sortOrder = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class FetchAndLock(Schema):
    class Meta:
        unknown = EXCLUDE

    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    maxTasks = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))
    usePriority = fields.Boolean(load_default=False, allow_none=True)
    asyncResponseTimeout = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    topics = fields.List(fields.Nested(FetchTopic), load_default=list, allow_none=True)
    sorting = fields.List(fields.Nested(FetchSorting), load_default=None, allow_none=True)


class ExternalTask(Schema):
    activityId = fields.String(attribute="activity_id")
    # The waiting SpiffWorkflow task is both the external task and its activity instance.
    activityInstanceId = fields.Function(lambda row: row["id"])
    errorMessage = fields.String(attribute="error_message", allow_none=True)
    executionId = fields.Function(lambda row: row["instance_id"])
    id = fields.String()
    lockExpirationTime = CamundaDate(attribute="lock_expires", allow_none=True)
    createTime = CamundaDate(attribute="created")
    processDefinitionId = fields.String(attribute="definition_id")
    processDefinitionKey = fields.String(attribute="definition_key")
    processDefinitionVersionTag = fields.Constant(None)
    processInstanceId = fields.String(attribute="instance_id")
    retries = fields.Integer(allow_none=True)
    suspended = fields.Constant(False)
    workerId = fields.String(attribute="worker_id", allow_none=True)
    topicName = fields.String(attribute="topic")
    tenantId = fields.Constant(None)
    priority = fields.Integer()
    businessKey = fields.String(attribute="business_key", allow_none=True)


class LockedExternalTask(ExternalTask):
    errorDetails = fields.String(attribute="error_details", allow_none=True)
    variables = fields.Dict(keys=fields.String(), values=fields.Nested(VariableValue))
    extensionProperties = fields.Constant({})


class ExternalTaskQuery(PagingQuery):
    externalTaskId = fields.String(load_default=None)
    topicName = fields.String(load_default=None)
    workerId = fields.String(load_default=None)
    locked = fields.Boolean(load_default=False)
    notLocked = fields.Boolean(load_default=False)
    withRetriesLeft = fields.Boolean(load_default=False)
    noRetriesLeft = fields.Boolean(load_default=False)
    processInstanceId = fields.String(load_default=None)
    processDefinitionId = fields.String(load_default=None)
    processDefinitionKey = fields.String(load_default=None)
    activityId = fields.String(load_default=None)
    priorityHigherThanOrEquals = fields.Integer(load_default=None)
    priorityLowerThanOrEquals = fields.Integer(load_default=None)
    sortBy = fields.String(
        load_default="createTime",
        validate=validate.OneOf(
            [
                "id",
                "lockExpirationTime",
                "processInstanceId",
                "processDefinitionId",
                "processDefinitionKey",
                "taskPriority",
                "createTime",
            ]
        ),
    )
    sortOrder = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class ExternalTaskTopicNamesQuery(QuerySchema):
    withLockedTasks = fields.Boolean(load_default=False)
    withUnlockedTasks = fields.Boolean(load_default=False)
    withRetriesLeft = fields.Boolean(load_default=False)


class CompleteExternalTask(Schema):
    class Meta:
        unknown = EXCLUDE

    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    variables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)
    localVariables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)


class ExternalTaskFailure(Schema):
    class Meta:
        unknown = EXCLUDE

    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorMessage = fields.String(load_default=None, allow_none=True)
    errorDetails = fields.String(load_default=None, allow_none=True)
    # Camunda's default: a failure without retries raises an incident.
    retries = fields.Integer(load_default=0, allow_none=True, validate=validate.Range(min=0))
    retryTimeout = fields.Integer(load_default=0, allow_none=True, validate=validate.Range(min=0))


class ExternalTaskBpmnError(Schema):
    class Meta:
        unknown = EXCLUDE

    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorCode = fields.String(required=True, validate=validate.Length(min=1, max=255))
    errorMessage = fields.String(load_default=None, allow_none=True)
    variables = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, allow_none=True)


class ExtendLock(Schema):
    class Meta:
        unknown = EXCLUDE

    workerId = fields.String(required=True, validate=validate.Length(min=1, max=255))
    newDuration = fields.Integer(required=True, validate=validate.Range(min=1))


class ExternalTaskRetries(Schema):
    class Meta:
        unknown = EXCLUDE

    retries = fields.Integer(required=True, validate=validate.Range(min=0))
