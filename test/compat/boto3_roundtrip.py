"""boto3 against the local stack: the steps of test/compat/boto3.test.ts.

Usage: boto3_roundtrip.py batch | schedule <due-iso> | scheduled-job
Reads AWS_ENDPOINT_URL and credentials from the environment (as boto3 does) and prints
one JSON object with what it saw.
"""
import json
import sys
import time

import boto3
from botocore.config import Config

CONFIG = Config(region_name="us-east-1", retries={"max_attempts": 2})


def client(name):
    import os

    return boto3.client(name, endpoint_url=os.environ["AWS_ENDPOINT_URL"], config=CONFIG)


def wait_for(check, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def batch_round_trip():
    batch = client("batch")
    batch.create_compute_environment(
        computeEnvironmentName="py-ce",
        type="MANAGED",
        computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]},
    )
    batch.create_job_queue(jobQueueName="py-q", priority=1, computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "py-ce"}])
    definition = batch.register_job_definition(
        jobDefinitionName="py-def",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "python:3.12",
            "command": ["sh", "-c", "echo from boto3 $GREETING"],
            "environment": [{"name": "GREETING", "value": "hello"}],
            "resourceRequirements": [{"type": "VCPU", "value": "0.25"}, {"type": "MEMORY", "value": "512"}],
        },
    )
    submitted = batch.submit_job(jobName="py-job", jobQueue="py-q", jobDefinition="py-def", tags={"team": "data"})

    def finished():
        [job] = batch.describe_jobs(jobs=[submitted["jobId"]])["jobs"]
        return job if job["status"] in ("SUCCEEDED", "FAILED") else None

    job = wait_for(finished, "the job to finish")
    listed = batch.list_jobs(jobQueue="py-q", filters=[{"name": "JOB_NAME", "values": ["py-job"]}])["jobSummaryList"]
    return {
        "definition": {"name": definition["jobDefinitionName"], "revision": definition["revision"]},
        "job": {"status": job["status"], "exitCode": job["container"].get("exitCode"), "tags": job.get("tags", {})},
        "listed": [j["jobId"] for j in listed],
        "jobId": submitted["jobId"],
    }


def create_schedule(due):
    scheduler = client("scheduler")
    scheduler.create_schedule_group(Name="py-group")
    scheduler.create_schedule(
        Name="py-once",
        GroupName="py-group",
        ScheduleExpression=f"at({due})",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": "arn:aws:scheduler:::aws-sdk:batch:submitJob",
            "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
            "Input": json.dumps({"JobName": "py-scheduled", "JobQueue": "py-q", "JobDefinition": "py-def"}),
        },
    )
    got = scheduler.get_schedule(Name="py-once", GroupName="py-group")
    return {"state": got["State"], "expression": got["ScheduleExpression"], "after": got.get("ActionAfterCompletion")}


def scheduled_job():
    batch = client("batch")
    scheduler = client("scheduler")

    def appeared():
        jobs = batch.list_jobs(jobQueue="py-q", filters=[{"name": "JOB_NAME", "values": ["py-scheduled"]}])["jobSummaryList"]
        return jobs or None

    jobs = wait_for(appeared, "the scheduled job")

    def deleted():
        try:
            scheduler.get_schedule(Name="py-once", GroupName="py-group")
            return None
        except scheduler.exceptions.ResourceNotFoundException as error:
            return error.response["Error"]["Code"]

    return {"jobs": len(jobs), "deleted": wait_for(deleted, "the schedule to delete itself")}


if __name__ == "__main__":
    step = sys.argv[1]
    out = batch_round_trip() if step == "batch" else create_schedule(sys.argv[2]) if step == "schedule" else scheduled_job()
    print(json.dumps(out))
