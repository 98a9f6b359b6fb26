"""The response keys real Camunda clients index, from ../shared/notes/camunda-compat.md (pycamunda 0.6.1
indexes each with `data[key]`, so every one must be present even when null)."""
from __future__ import annotations

import re

DEFINITION = {"id", "key", "category", "description", "name", "version", "resource", "deploymentId", "diagram",
              "suspended", "tenantId", "versionTag", "historyTimeToLive", "startableInTasklist"}
INSTANCE = {"id", "definitionId", "businessKey", "caseInstanceId", "tenantId", "suspended", "links"}
TASK = {"assignee", "caseDefinitionId", "caseExecutionId", "caseInstanceId", "delegationState", "description",
        "executionId", "formKey", "id", "name", "owner", "parentTaskId", "priority", "processDefinitionId",
        "processInstanceId", "suspended", "taskDefinitionKey", "created", "due", "followUp"}
EXTERNAL_TASK = {"activityId", "activityInstanceId", "errorMessage", "executionId", "id", "processDefinitionId",
                 "processDefinitionKey", "processInstanceId", "tenantId", "retries", "workerId", "priority",
                 "topicName", "lockExpirationTime"}
LOCKED_EXTERNAL_TASK = EXTERNAL_TASK | {"errorDetails", "processDefinitionVersionTag", "suspended", "businessKey",
                                        "variables", "extensionProperties", "createTime"}
HISTORIC_TASK = {"id", "processDefinitionKey", "processDefinitionId", "processInstanceId", "executionId",
                 "activityInstanceId", "name", "description", "deleteReason", "owner", "assignee", "startTime",
                 "endTime", "duration", "taskDefinitionKey", "priority", "due", "parentTaskId", "followUp",
                 "tenantId"}
HISTORIC_ACTIVITY = {"id", "parentActivityInstanceId", "activityId", "activityName", "activityType",
                     "processDefinitionKey", "processDefinitionId", "processInstanceId", "executionId", "taskId",
                     "calledProcessInstanceId", "calledCaseInstanceId", "assignee", "startTime", "endTime",
                     "durationInMillis", "canceled", "completeScope", "tenantId"}
INCIDENT = {"id", "processDefinitionId", "processInstanceId", "executionId", "incidentTimestamp", "incidentType",
            "activityId", "failedActivityId", "causeIncidentId", "rootCauseIncidentId", "configuration", "tenantId",
            "incidentMessage", "jobDefinitionId", "annotation"}
# yyyy-MM-dd'T'HH:mm:ss.SSSZ
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")


def has_keys(item: dict, keys: set[str]) -> None:
    missing = keys - set(item)
    assert not missing, f"missing keys {sorted(missing)} in {sorted(item)}"


def is_error(response, status: int, type_: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """Camunda's error body: JSON `{type, message}` with the status, never problem+json or HTML."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"type", "message"} and isinstance(body["message"], str) and body["message"]
    if type_:
        assert body["type"] == type_, body
    return body
