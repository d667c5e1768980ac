"""The inline policy a Lambda function in a VPC needs: its network interfaces and its own logs.

It replaces AWS's `AWSLambdaVPCAccessExecutionRole`, which allows logs:CreateLogGroup,
CreateLogStream and PutLogEvents and the ENI actions on `*`
(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html).
Lambda creates and manages the function's ENIs with the execution role and needs
ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, DeleteNetworkInterface,
AssignPrivateIpAddresses and UnassignPrivateIpAddresses ("Giving Lambda functions access to
resources in an Amazon VPC", https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html):
- the two Describe actions have no resource-level permissions, so they are allowed on `*`
  (the Lambda guide: DescribeNetworkInterfaces "only works if it's allowed on all resources");
- the other four act on network interfaces, subnets and security groups of this account and
  region, so they are scoped to `arn:<partition>:ec2:<region>:<account>:*/*`, the form the
  Lambda guide gives for DeleteNetworkInterface ("Either specify a unique resource ID, or
  include all resource IDs"); Lambda names the ENI ids only at run time.
The function writes only to its own log group, which the stack creates first, so no
logs:CreateLogGroup and no other group.
"""

from __future__ import annotations

import json

ENI_ACTIONS = [
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
]
DESCRIBE_ACTIONS = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]


def vpc_function_policy(partition: str, region: str, account_id: str, log_group_arn: str) -> str:
    """The policy document (JSON text) for a VPC function that logs to `log_group_arn`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ManageTheFunctionNetworkInterfaces",
                    "Effect": "Allow",
                    "Action": ENI_ACTIONS,
                    "Resource": f"arn:{partition}:ec2:{region}:{account_id}:*/*",
                },
                {
                    # No resource-level permissions for these (Lambda VPC guide).
                    "Sid": "FindTheFunctionNetworkInterfaces",
                    "Effect": "Allow",
                    "Action": DESCRIBE_ACTIONS,
                    "Resource": "*",
                },
                {
                    "Sid": "WriteTheFunctionLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group_arn}:*",
                },
            ],
        }
    )
